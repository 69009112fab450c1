import { runSeed } from './seed.js';

await runSeed();
