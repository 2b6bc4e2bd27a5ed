// Public API of lib/data (filled in by its module owner).
export {};
