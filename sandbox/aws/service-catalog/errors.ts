/**
 * Error codes the emulator answers with. The modeled Service Catalog exceptions become SDK classes (`instanceof`
 * works, `$fault: "client"`); the protocol-level ones surface with `error.name` set to the code.
 */
export type ServiceCatalogErrorCode =
  | 'ResourceNotFoundException'
  | 'InvalidParametersException'
  | 'LimitExceededException'
  | 'DuplicateResourceException'
  | 'ResourceInUseException'
  | 'UnknownOperationException'
  | 'MissingAuthenticationTokenException'
  | 'SerializationException'
  | 'ThrottlingException'
  | 'InternalFailure';

/** An error the emulator reports to the caller as `{"__type": code, "message": ...}` with `httpStatus`. */
export class ServiceCatalogError extends Error {
  override name = 'ServiceCatalogError';

  constructor(
    readonly code: ServiceCatalogErrorCode,
    message: string,
    readonly httpStatus = code === 'InternalFailure' ? 500 : 400,
  ) {
    super(message);
  }
}

export const resourceNotFound = (message: string) => new ServiceCatalogError('ResourceNotFoundException', message);
export const invalidParameters = (message: string) => new ServiceCatalogError('InvalidParametersException', message);
export const limitExceeded = (message: string) => new ServiceCatalogError('LimitExceededException', message);
export const resourceInUse = (message: string) => new ServiceCatalogError('ResourceInUseException', message);
export const duplicateResource = (message: string) => new ServiceCatalogError('DuplicateResourceException', message);
