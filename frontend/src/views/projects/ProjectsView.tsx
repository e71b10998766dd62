import { useProjects } from '../../api/queries';
import { Empty, LoadFailed, Loading } from '../../components/Status';
import { CreateProjectForm } from './CreateProjectForm';
import { ImportButton } from './ImportButton';
import { ProjectRow } from './ProjectRow';

/** Every project, oldest first, with create and import. */
export default function ProjectsView() {
  const projects = useProjects();
  return (
    <div className="mx-auto flex h-full max-w-5xl flex-col gap-4 overflow-y-auto p-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-2xl font-semibold">Projects</h1>
        <ImportButton />
      </div>
      <CreateProjectForm />
      {projects.isPending ? (
        <Loading label="Loading projects…" />
      ) : projects.isError && !projects.data ? (
        <LoadFailed what="projects" onRetry={() => void projects.refetch()} />
      ) : projects.data.length === 0 ? (
        <Empty>No projects yet. Create one above or import an export.</Empty>
      ) : (
        <ul className="flex flex-col gap-3">
          {projects.data.map((project) => (
            <ProjectRow key={project.id} project={project} />
          ))}
        </ul>
      )}
    </div>
  );
}
