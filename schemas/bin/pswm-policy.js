#!/usr/bin/env node
import { launch } from './launch.js';
await launch(new URL('../src/cli/main.ts', import.meta.url));
