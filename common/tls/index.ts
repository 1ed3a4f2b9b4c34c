export * from './errors';
export * from './options';
export * from './peer-identity';
