// Scratch directories for integration tests: the same helper the unit tests use (src/test-tmp-dir.ts).
export { tmpDir } from '../../src/test-tmp-dir.ts';
