/** The ids the admin API accepts in its paths. */
import { z } from 'zod';

/** Export and run ids as the config and the run-id generator produce them; anything else cannot exist. */
export const idSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@#~-]{0,199}$/);
