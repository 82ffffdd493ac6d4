export * from './common.ts';
export * from './kinds/appcontext.ts';
export * from './kinds/mecapp.ts';
export * from './kinds/mechost.ts';
export * from './kinds/qkdlink.ts';
export * from './resources.ts';
