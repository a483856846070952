/** Errors a service throws for the HTTP layer to map; `field` names the offending input. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
    readonly details?: unknown[],
  ) {
    super(message);
  }
}
export const badRequest = (message: string, field?: string, details?: unknown[]) => new AppError(400, message, field, details);
export const unauthorized = (message = 'authentication required') => new AppError(401, message);
export const forbidden = (message = 'not allowed') => new AppError(403, message);
export const notFound = (what: string, field?: string) => new AppError(404, `${what} not found`, field);
export const conflict = (message: string, field?: string) => new AppError(409, message, field);
