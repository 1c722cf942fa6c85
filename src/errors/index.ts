export * from './app-error';
export * from './image-errors';
export * from './interop-errors';
export * from './note-errors';
export * from './dependency-errors';
export * from './intake-errors';
export * from './site-errors';
