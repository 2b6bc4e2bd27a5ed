// Public API of lib/theory (filled in by its module owner).
export {};
