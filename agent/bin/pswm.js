#!/usr/bin/env node
import { launch } from '@pswm/schemas/launch';
await launch(new URL('../src/cli/main.ts', import.meta.url));
