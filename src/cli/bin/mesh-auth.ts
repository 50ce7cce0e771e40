#!/usr/bin/env node
// The `mesh-auth` bin: starts the program (src/cli/mesh-auth.ts, built beside this file) through the code cache.
import { launch } from '../launch.js';

launch(__dirname, 'mesh-auth-program.cjs');
