/**
 * Flasher commands (`ports`, `flash`, `monitor`, `bench`) are registered here.
 */
import type { Command } from 'commander';

export function registerFlasherCommands(_program: Command): void {
  // Filled in by the flasher integration.
}
