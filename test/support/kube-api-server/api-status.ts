/**
 * metav1.Status failures as the API server sends them (body of a non-2xx response, or the object of
 * a watch ERROR event), and the error type the store throws to produce one.
 */

export type Obj = Record<string, any>;

export class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function statusBody(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export const notFound = (plural: string, name: string): ApiStatusError => new ApiStatusError(404, 'NotFound', `${plural} "${name}" not found`);
export const alreadyExists = (plural: string, name: string): ApiStatusError => new ApiStatusError(409, 'AlreadyExists', `${plural} "${name}" already exists`);
export const conflict = (plural: string, name: string): ApiStatusError =>
  new ApiStatusError(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
export const expired = (message: string): ApiStatusError => new ApiStatusError(410, 'Expired', message);
export const badRequest = (message: string): ApiStatusError => new ApiStatusError(400, 'BadRequest', message);
