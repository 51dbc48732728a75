# Environment for running gitfaas on this machine with the locally built base images
# (no Docker Hub here). Sourced by up.sh and test.sh; a machine with internet can leave
# the template images at their public defaults.
export GITFAAS_TEMPLATE_NODE_IMAGE="${GITFAAS_TEMPLATE_NODE_IMAGE:-127.0.0.1:5000/gitfaas/node:20}"
export GITFAAS_TEMPLATE_PYTHON_IMAGE="${GITFAAS_TEMPLATE_PYTHON_IMAGE:-127.0.0.1:5000/gitfaas/debian:bookworm}"
