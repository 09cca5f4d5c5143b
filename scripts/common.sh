# Helpers shared by the scripts in this folder; source it, do not run it.

# Sets and exports PG_CONFIG: the caller's, else PostgreSQL 15's, else the one on PATH.
choose_pg_config() {
  if [ -z "${PG_CONFIG:-}" ]; then
    PG_CONFIG=pg_config
    [ -x /usr/lib/postgresql/15/bin/pg_config ] && PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
  fi
  export PG_CONFIG
}

# as_postgres DIR COMMAND: runs the shell command line COMMAND as the postgres user (clusters refuse
# to run as root) in directory DIR, from root (su), from postgres itself, or through sudo.
as_postgres() {
  local dir=$1 command=$2
  if [ "$(id -un)" = postgres ]; then (cd "$dir" && bash -c "$command")
  elif [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "cd '$dir' && $command"
  else sudo -u postgres bash -c "cd '$dir' && $command"
  fi
}
