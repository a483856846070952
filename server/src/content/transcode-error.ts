import { AppError } from '../shared/errors.ts';

/** Why an accepted file cannot become content. */
export type TranscodeFailure = 'damaged' | 'truncated' | 'too-long' | 'silent' | 'loudness';

/**
 * A file refused for what it contains (422 naming body/file): `reason` is for code that treats causes differently
 * (e.g. what to keep of a failed upload), the message is for the operator.
 */
export class TranscodeError extends AppError {
  constructor(
    readonly reason: TranscodeFailure,
    message: string,
  ) {
    super(422, message, 'body/file');
  }
}
