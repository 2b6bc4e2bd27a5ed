# A JupyterHub single-user image for a class (Zero to JupyterHub: singleuser.image; also `docker run -p 8888:8888`).
# Jupyter's docker-stacks base (non-root user jovyan, JupyterLab 4, jupyterhub-singleuser) + Node LTS + the kit built,
# its kernels installed and its data warmed in /opt/transfer-kit; each student gets ~/transfer-kit (their own copy of the
# notebooks, linked to the kit) at every server start — on a persistent home too (binder/student-home.sh).
#   docker build -t REGISTRY/transfer-kit:2026-12-01 .        (pin BASE_IMAGE to a date tag for rebuilds that match)
# docs/teaching.md says how to use it with Zero to JupyterHub and The Littlest JupyterHub.
ARG BASE_IMAGE=quay.io/jupyter/base-notebook:latest
FROM ${BASE_IMAGE}

# Node (the LTS line CI tests besides the machine's) and plotly's JupyterLab renderer for the figures' MIME type.
RUN mamba install --yes -c conda-forge 'nodejs=24' 'plotly>=6.1' && mamba clean --all -f -y

ENV KIT_HOME=/opt/transfer-kit \
    KIT_CACHE_DIR=/home/${NB_USER}/.cache/transfer-kit

USER root
COPY --chown=${NB_UID}:${NB_GID} . ${KIT_HOME}
WORKDIR ${KIT_HOME}
USER ${NB_UID}
# The same setup step as Binder and the dev container: npm ci (builds dist/), the kernels into the image's Jupyter
# (conda) prefix, the data cache warmed into cache-seed/ (linked into each student's KIT_CACHE_DIR).
RUN KIT_KERNEL_PREFIX="${CONDA_DIR}" KIT_CACHE_DIR="${KIT_HOME}/cache-seed" bash binder/postBuild \
 && rm -rf "/home/${NB_USER}/.npm" "/home/${NB_USER}/.cache"

USER root
# The kit is read-only for students; the hook (an executable without .sh: run, not sourced) makes ~/transfer-kit.
RUN chown -R root:root "${KIT_HOME}" && chmod -R a+rX "${KIT_HOME}" \
 && ln -s "${KIT_HOME}/binder/student-home.sh" /usr/local/bin/before-notebook.d/50-transfer-kit

USER ${NB_UID}
WORKDIR /home/${NB_USER}
