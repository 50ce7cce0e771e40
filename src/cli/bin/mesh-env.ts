#!/usr/bin/env node
// The `mesh-env` bin: starts the program (src/cli/mesh-env.ts, built beside this file) through the code cache.
import { launch } from '../launch.js';

launch(__dirname, 'mesh-env-program.cjs');
