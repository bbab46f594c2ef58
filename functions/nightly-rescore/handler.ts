// Placeholder while the handler is written; replaced in the next commits.
export const handler = async (): Promise<void> => {};
