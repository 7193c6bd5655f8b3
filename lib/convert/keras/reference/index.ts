/**
 * Registers, with tfjs's serialization, the Keras classes tfjs lacks or defines differently, so that
 * the twin of a Keras model (../to-tfjs.ts) computes what Keras computes. Importing it is enough.
 */
import './activations';
import './gru';
import './layers';
export { KERAS3_ACTIVATION_RENAMES } from './activations';
