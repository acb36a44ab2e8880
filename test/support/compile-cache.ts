// Preloaded by the test commands (`node --test --import`): every test file runs in a process of
// its own, and without a cache each one strips and compiles the same src/ modules again (about
// half of loading the agent's modules). Node keys the cache by each file's contents.
import module from 'node:module';

module.enableCompileCache?.();
