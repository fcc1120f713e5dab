import { Command } from 'commander';
import { eventsCommand } from './events.command.js';
import { migrateCommand } from './migrate.command.js';
import { modelsCommand } from './models.command.js';
import { projectionsCommand } from './projections.command.js';

/**
 * The CLI's command tree. One file per command group (`src/cli/<group>.command.ts` exporting a function
 * that returns a commander `Command`); add a group with one `addCommand` line here.
 */
export function buildProgram(): Command {
  return new Command('anomaly-platform')
    .description('Operate the anomaly platform: migrations, event log export and verification')
    .showHelpAfterError()
    .addCommand(migrateCommand())
    .addCommand(eventsCommand())
    .addCommand(projectionsCommand())
    .addCommand(modelsCommand());
}
