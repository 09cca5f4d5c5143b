-- ruLake's privileges (docs/security.md): the catalog tables are the extension owner's; every role that
-- may use schema rulake gets the public functions (which check the caller's rights themselves) and the
-- views (which show it what it may see).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA rulake FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA rulake FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.bundle_witness(text, bigint, numeric, bigint, jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.read_bundle(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.boundary_selftest(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.may_see(text), rulake._search_count(text, text) TO PUBLIC;
GRANT SELECT ON rulake.visible_collections, rulake.visible_backends, rulake.collection_stats, rulake.backend_stats,
    rulake.cache_stats TO PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.create_backend(text, text, jsonb), rulake.drop_backend(text),
    rulake.create_collection(text, text, text, text, text, text, interval, bigint, integer, text, text),
    rulake.drop_collection(text), rulake.refresh(text), rulake.refresh_all(), rulake.invalidate(text),
    rulake.publish_bundle(text, text), rulake.refresh_from_bundle_dir(text, text), rulake.save_cache(text, text),
    rulake.warm_from_dir(text, text), rulake.search(text, @extschema@.vector, integer),
    rulake.search_batch(text, @extschema@.vector[], integer),
    rulake.search_federated(text[], @extschema@.vector, integer) TO PUBLIC;
