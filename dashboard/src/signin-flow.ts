import { ApiError, api, session } from './api.js';
import type { ProjectsResponse, WhoamiResponse } from './types.js';

/** The projects an admin token sees, or null for a token that is not an admin's (or an older server). */
async function projectsOf(token: string): Promise<string[] | null> {
  try {
    const { projects } = await api<ProjectsResponse>('/v1/projects', { token });
    return projects.map((p) => (typeof p === 'string' ? p : p.id));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    return null;
  }
}

/** Whether the token is an admin's: the projects route answers only admins; else the tokens list does. */
async function isAdminToken(token: string, project: string, projects: string[] | null): Promise<boolean> {
  if (projects !== null) return true;
  try {
    await api(`/v1/plans/${encodeURIComponent(project)}/tokens`, { token });
    return true;
  } catch {
    return false;
  }
}

/** The project an agent or person token belongs to (`GET /v1/whoami`), or undefined (an older server). */
async function projectOfToken(token: string): Promise<string | undefined> {
  try {
    return (await api<WhoamiResponse>('/v1/whoami', { token })).project;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401)
      throw new Error(`That token was refused: ${error.message}`);
    return undefined;
  }
}

export interface Signed {
  readonly token: string;
  readonly project: string;
  readonly isAdmin: boolean;
  readonly projects: string[];
}

/**
 * Checks a token (and project) against the API: the project's status must answer. Resolves to who is
 * signed in, or rejects with a message for the sign-in screen.
 */
export async function signIn(token: string, project: string | null): Promise<Signed> {
  let projects: string[] | null;
  try {
    projects = await projectsOf(token);
  } catch (error) {
    throw new Error(`That token was refused: ${(error as Error).message}`);
  }
  const chosen = project || projects?.[0] || (await projectOfToken(token));
  if (!chosen)
    throw new Error(
      projects === null
        ? 'Enter the project this token belongs to.'
        : 'This Convoy has no project yet: apply a plan first.',
    );
  try {
    await api(`/v1/plans/${encodeURIComponent(chosen)}/status`, { token });
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.status === 401) throw new Error(`That token was refused: ${error.message}`);
      if (error.status === 403)
        throw new Error(`That token may not read project ${chosen}: ${error.message}`);
      if (error.status === 404) throw new Error(`No project ${chosen}: ${error.message}`);
    }
    throw new Error(`Could not reach the API: ${(error as Error).message}`);
  }
  const isAdmin = await isAdminToken(token, chosen, projects);
  session.save(token, chosen);
  return { token, project: chosen, isAdmin, projects: projects ?? [chosen] };
}
