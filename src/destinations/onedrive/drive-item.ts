/** The parts of Graph's driveItem, drive and site resources this destination reads (zod: nothing read unchecked). */
import { z } from 'zod';

export const driveItemSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  size: z.number().int().nonnegative().optional(),
  eTag: z.string().optional(),
  cTag: z.string().optional(),
  webUrl: z.string().optional(),
  file: z.object({}).loose().optional(),
  folder: z.object({}).loose().optional(),
});
export type DriveItem = z.infer<typeof driveItemSchema>;

export const driveSchema = z.object({
  id: z.string().min(1),
  driveType: z.string().optional(),
  webUrl: z.string().optional(),
});
export const siteSchema = z.object({ id: z.string().min(1), webUrl: z.string().optional() });

export const uploadSessionSchema = z.object({
  uploadUrl: z.string().url(),
  expirationDateTime: z.string().optional(),
  nextExpectedRanges: z.array(z.string()).optional(),
});

/** Upload URL status: `{"nextExpectedRanges":["12345-"], "expirationDateTime"}`. */
export const uploadStatusSchema = z.object({
  nextExpectedRanges: z.array(z.string()).default([]),
  expirationDateTime: z.string().optional(),
});

/** Content type Graph stores with the file, from the extension. */
export function contentTypeFor(fileName: string): string {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.xlsx')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  if (lower.endsWith('.csv')) return 'text/csv';
  return 'application/octet-stream';
}
