# Private container repositories for the two function images: <repository_prefix>/start-compute and
# <repository_prefix>/stop-compute. scripts/deploy.sh pushes to them through the Fn CLI.

data "oci_objectstorage_namespace" "this" {
  compartment_id = var.tenancy_ocid
}

data "oci_identity_regions" "all" {}

resource "oci_artifacts_container_repository" "function" {
  for_each = local.functions

  compartment_id = var.compartment_ocid
  display_name   = "${var.repository_prefix}/${each.value.name}"
  is_public      = false
  is_immutable   = false
  freeform_tags  = local.common_tags

  readme {
    content = "Image of the ${each.value.name} OCI Function (oci-compute-power)."
    # The API's enum (TEXT_PLAIN | TEXT_MARKDOWN); the provider passes the value through unchecked.
    format = "TEXT_PLAIN"
  }
}

locals {
  region_key = lower(one([for r in data.oci_identity_regions.all.regions : r.key if r.name == var.region]))
  # What `fn update context registry` needs: the Fn CLI appends /<function name>.
  fn_registry = "${local.region_key}.ocir.io/${data.oci_objectstorage_namespace.this.namespace}/${var.repository_prefix}"
}
