# nbgrader configuration for the kit's TypeScript (tslab) notebooks.
# nbgrader takes a notebook's language from metadata.kernelspec.language ("typescript" here), so the code stub
# needs a "typescript" key. Solutions sit between `// BEGIN SOLUTION` and `// END SOLUTION`, hidden tests between
# `// BEGIN HIDDEN TESTS` and `// END HIDDEN TESTS` (nbgrader matches the delimiter anywhere in a line).
# The kit's own `npm run release` / `npm run grade` follow the same conventions (see docs/teaching.md).
c = get_config()  # noqa: F821 (defined by nbgrader when it loads this file)

c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
    "typescript": "// YOUR CODE HERE",
}
c.ClearSolutions.begin_solution_delimeter = "// BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "// END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "// BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "// END HIDDEN TESTS"

# Test cells write their verdict on stdout and throw on a wrong answer; nbgrader scores a test cell 0 when it has
# an error or any stderr output. tslab prints a cell's last value on stdout (not as an execute_result), so the
# kit's tests give all or nothing per cell.
# A kit notebook imports the kit from '..' (the checkout's compiled library): nbgrader executes a notebook in its
# own folder (autograded/<student>/<assignment>/), where '..' is not the kit — see docs/teaching.md for the links
# that make it one, or grade with `npm run grade`, which does this itself.
c.Execute.timeout = 600
