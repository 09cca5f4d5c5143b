// Operator classes of rabitq: the metric support functions (support function 1 of each opclass) and
// amvalidate, which checks an opclass's members.
#include "rabitq_am.hpp"

extern "C" {
#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

// Support function 1 of vector_l2_ops, vector_ip_ops and vector_cosine_ops: the metric the opclass
// orders by, as the core's Metric code.
RULAKE_FUNCTION(rabitq_metric_l2) { PG_RETURN_INT32(static_cast<int32>(rulake::core::Metric::L2)); }
RULAKE_FUNCTION(rabitq_metric_ip) { PG_RETURN_INT32(static_cast<int32>(rulake::core::Metric::InnerProduct)); }
RULAKE_FUNCTION(rabitq_metric_cosine) { PG_RETURN_INT32(static_cast<int32>(rulake::core::Metric::Cosine)); }

namespace rulake::am {

namespace {

// The checks, as plain Postgres code (no C++ objects alive): reports each problem with INFO and
// returns whether the opclass is valid.
bool validate_opclass(Oid opclass) {
    HeapTuple class_tuple = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass));
    if (!HeapTupleIsValid(class_tuple)) elog(ERROR, "cache lookup failed for operator class %u", opclass);
    auto* class_form = reinterpret_cast<Form_pg_opclass>(GETSTRUCT(class_tuple));
    Oid family = class_form->opcfamily;
    Oid input_type = class_form->opcintype;
    char* class_name = pstrdup(NameStr(class_form->opcname));
    ReleaseSysCache(class_tuple);

    CatCList* operators = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(family));
    CatCList* procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(family));
    bool valid = true;
    bool has_support = false;
    bool has_operator = false;

    for (int i = 0; i < procs->n_members; ++i) {
        auto* proc = reinterpret_cast<Form_pg_amproc>(GETSTRUCT(&procs->members[i]->tuple));
        if (proc->amprocnum != 1) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("rabitq operator family of operator class \"%s\" contains function %s with "
                                  "invalid support number %d",
                                  class_name, format_procedure(proc->amproc), proc->amprocnum)));
            valid = false;
            continue;
        }
        if (!check_amproc_signature(proc->amproc, INT4OID, true, 0, 0)) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("rabitq operator family of operator class \"%s\" contains function %s with wrong "
                                  "signature for support number 1 (expected: no arguments, returns integer)",
                                  class_name, format_procedure(proc->amproc))));
            valid = false;
            continue;
        }
        if (proc->amproclefttype == input_type && proc->amprocrighttype == input_type) has_support = true;
    }

    for (int i = 0; i < operators->n_members; ++i) {
        auto* op = reinterpret_cast<Form_pg_amop>(GETSTRUCT(&operators->members[i]->tuple));
        if (op->amopstrategy != 1 || op->amoppurpose != AMOP_ORDER) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("rabitq operator family of operator class \"%s\" contains operator %s that is "
                                  "not an ORDER BY operator of strategy 1",
                                  class_name, format_operator(op->amopopr))));
            valid = false;
            continue;
        }
        if (!check_amop_signature(op->amopopr, FLOAT8OID, op->amoplefttype, op->amoprighttype)) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("rabitq operator family of operator class \"%s\" contains operator %s with wrong "
                                  "signature (expected to return double precision)",
                                  class_name, format_operator(op->amopopr))));
            valid = false;
            continue;
        }
        if (op->amoplefttype == input_type && op->amoprighttype == input_type) has_operator = true;
    }

    if (!has_support) {
        ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                       errmsg("rabitq operator class \"%s\" is missing support function 1", class_name)));
        valid = false;
    }
    if (!has_operator) {
        ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                       errmsg("rabitq operator class \"%s\" is missing its ORDER BY operator", class_name)));
        valid = false;
    }

    ReleaseCatCacheList(procs);
    ReleaseCatCacheList(operators);
    return valid;
}

}  // namespace

// amvalidate: called by amvalidate() / pg_amop checks; INFO messages describe each problem.
bool rabitq_validate(Oid opclass) {
    return pg::guard_entry([&] { return pg::pg_call([&] { return validate_opclass(opclass); }); });
}

}  // namespace rulake::am
