import { render } from 'preact';
import { App } from './app';
import './styles.css';

const root = document.getElementById('app')!;
// index.html holds a static shell for the first paint; the app replaces it.
root.textContent = '';
render(<App />, root);
