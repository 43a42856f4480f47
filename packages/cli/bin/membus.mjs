#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (workspace packages ship their sources).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
