export * from './hydraulic-17.js';
export * from './window.js';
