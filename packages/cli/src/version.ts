/** The version of the stele command and collector. */
export const VERSION = '0.1.0';
