// Public API of lib/models (filled in by its module owner).
export {};
