import { MembusError } from '@membus/contracts';
import type { ScrollCursor } from '@membus/vector-index';

export function encodeCursor(cursor: ScrollCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

export function decodeCursor(value: string): ScrollCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new MembusError('INVALID_MESSAGE', 'cursor is not one this service issued', {
    details: { field: 'cursor' },
  });
}
