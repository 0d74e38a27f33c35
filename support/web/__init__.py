"""The HTTP pieces the features' routes share: helpers, the route declaration and the OpenAPI document."""
