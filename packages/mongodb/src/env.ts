import { z } from 'zod';
import { writeConcernSchema } from './connect.ts';

/**
 * The env options of a service that keeps a store in MongoDB when `MONGODB_URI` is set
 * (`MONGODB_URI`, `MONGODB_DATABASE`, `MONGODB_WRITE_CONCERN`), as entries of its env spec.
 * `uri` describes what the URI switches; `allowUnacknowledged` permits `w: 0`.
 */
export function mongodbEnvSpec(options: { uri: string; allowUnacknowledged: boolean }) {
  return {
    mongodbUri: {
      env: 'MONGODB_URI',
      schema: z.string().min(1).optional(),
      description: options.uri,
    },
    mongodbDatabase: {
      env: 'MONGODB_DATABASE',
      schema: z.string().min(1).default('membus'),
      description: 'MongoDB database',
    },
    mongodbWriteConcern: {
      env: 'MONGODB_WRITE_CONCERN',
      schema: writeConcernSchema({ allowUnacknowledged: options.allowUnacknowledged }),
      description: 'MongoDB write concern: majority (default) or a node count',
    },
  } as const;
}
