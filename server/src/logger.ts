import { pino, type Logger } from 'pino';

/** JSON logs to stdout (one line per record, Chinese unescaped); never per piece. */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
