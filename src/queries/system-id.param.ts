import { z } from 'zod';

export const systemIdParam = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits and . _ : -')
  .meta({ id: 'SystemId', description: 'A system id as sent with its readings' });
