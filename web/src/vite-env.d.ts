/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_TASKCHAT_URL?: string;
  readonly VITE_CHATKIT_DOMAIN_KEY?: string;
}
