// Modules Vite resolves that TypeScript does not know about.
declare module "*.css";
