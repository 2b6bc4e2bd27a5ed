// Public API of lib/train (filled in by its module owner).
export {};
