// Kept equal to package.json's version by a unit test; a constant so the single executable
// needs no file next to it.
export const VERSION = '0.1.0';
