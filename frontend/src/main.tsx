import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, createServices } from './App';
import { loadConfig } from './config';
import './index.css';

const root = createRoot(document.getElementById('root')!);

loadConfig()
  .then((config) =>
    root.render(
      <StrictMode>
        <App services={createServices(config)} />
      </StrictMode>,
    ),
  )
  .catch((error: unknown) =>
    root.render(
      <p role="alert" className="p-6 text-red-800">
        Chorus cannot start: {error instanceof Error ? error.message : String(error)}
      </p>,
    ),
  );
