// Public API of lib/display (filled in by its module owner).
export {};
