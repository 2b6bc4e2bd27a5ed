// Public API of lib/backend (filled in by its module owner).
export {};
