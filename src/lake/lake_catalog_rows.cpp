// Primary-key reads of ruLake's catalog tables (see lake_catalog_rows.hpp).
#include <string>
#include <vector>

#include "lake_catalog_rows.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
}

namespace rulake::lake {

bool read_catalog_row(const char* table, Datum key, bool key_is_text, const std::vector<const char*>& columns,
                      std::vector<CatalogValue>* values) {
    values->assign(columns.size(), CatalogValue{});
    const char* const* names = columns.data();
    const size_t count = columns.size();
    CatalogValue* out = values->data();
    return pg::pg_call([&] {
        const Oid relation_oid = get_relname_relid(table, get_namespace_oid("rulake", false));
        if (!OidIsValid(relation_oid)) elog(ERROR, "catalog table rulake.%s is missing", table);
        Relation relation = table_open(relation_oid, AccessShareLock);
        const Oid index_oid = RelationGetPrimaryKeyIndex(relation);
        if (!OidIsValid(index_oid)) elog(ERROR, "catalog table rulake.%s has no primary key", table);
        TupleDesc descriptor = RelationGetDescr(relation);
        AttrNumber attnums[64];
        if (count > lengthof(attnums)) elog(ERROR, "too many columns");
        for (size_t i = 0; i < count; ++i) {
            attnums[i] = get_attnum(relation_oid, names[i]);
            if (attnums[i] == InvalidAttrNumber) elog(ERROR, "column %s of rulake.%s is missing", names[i], table);
        }
        // The primary key is the table's first column in every catalog table.
        ScanKeyData scan_key;
        ScanKeyInit(&scan_key, 1, BTEqualStrategyNumber, key_is_text ? F_TEXTEQ : F_OIDEQ, key);
        CommandCounterIncrement();
        Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
        SysScanDesc scan = systable_beginscan(relation, index_oid, true, snapshot, 1, &scan_key);
        HeapTuple tuple = systable_getnext(scan);
        const bool found = HeapTupleIsValid(tuple);
        if (found) {
            for (size_t i = 0; i < count; ++i) {
                const Form_pg_attribute attribute = TupleDescAttr(descriptor, attnums[i] - 1);
                bool is_null;
                const Datum datum = heap_getattr(tuple, attnums[i], descriptor, &is_null);
                out[i].is_null = is_null;
                if (!is_null) out[i].datum = datumCopy(datum, attribute->attbyval, attribute->attlen);
            }
        }
        systable_endscan(scan);
        UnregisterSnapshot(snapshot);
        table_close(relation, NoLock);
        return found;
    });
}

}  // namespace rulake::lake
