import type { Command } from 'commander';
export function registerSimCommand(_program: Command): void {}
