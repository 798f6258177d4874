#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildConvoyApp } from '../lib/convoy-app.js';

buildConvoyApp(new App());
