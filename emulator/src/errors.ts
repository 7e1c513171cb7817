/** An error answered in OCI's wire format: HTTP status plus `{"code","message"}`. */
export class OciHttpError extends Error {
  override readonly name = "OciHttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const notAuthenticated = (
  why = "The required information to complete authentication was not provided or was incorrect.",
) => new OciHttpError(401, "NotAuthenticated", why);

export const notFound = (what: string) =>
  new OciHttpError(
    404,
    "NotAuthorizedOrNotFound",
    `Authorization failed or requested resource not found: ${what}`,
  );

export const invalidParameter = (message: string) => new OciHttpError(400, "InvalidParameter", message);
