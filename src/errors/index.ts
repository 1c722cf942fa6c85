export * from './app-error';
export * from './image-errors';
