// A setup file of every vitest config: registered before a test file's own hooks, this afterAll
// runs after theirs (vitest runs after-hooks in reverse), once its servers and children are stopped.
import { afterAll } from 'vitest';
import { removeScratchDirs } from './scratch.js';

afterAll(removeScratchDirs);
