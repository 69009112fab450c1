#!/usr/bin/env node
// The `herald` command (package.json's `bin`): see cli.ts.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
