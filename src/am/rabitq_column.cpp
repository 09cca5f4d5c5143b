// What a rabitq index learns from its column and operator class: the metric and the dimensions.
#include <string>

#include "rabitq_am.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
}

namespace rulake::am {

// Support function 1 of every rabitq operator class returns the metric code (core::Metric). Its
// signature is checked before the call: an operator class made with another function must not make the
// server call it with the wrong arguments.
core::Metric opclass_metric(Relation index) {
    bool valid_signature = false;
    int32 code = pg::pg_call([&] {
        RegProcedure proc = index_getprocid(index, 1, 1);
        valid_signature = OidIsValid(proc) && get_func_nargs(proc) == 0 && get_func_rettype(proc) == INT4OID;
        if (!valid_signature) return 0;
        FmgrInfo* support = index_getprocinfo(index, 1, 1);
        return DatumGetInt32(FunctionCall0Coll(support, InvalidOid));
    });
    if (!valid_signature)
        throw pg::SqlError(ERRCODE_INVALID_OBJECT_DEFINITION,
                           "support function 1 of the operator class of index \"" +
                               std::string(RelationGetRelationName(index)) + "\" must take no arguments and return integer",
                           {}, "Use one of the operator classes vector_l2_ops, vector_ip_ops and vector_cosine_ops.");
    switch (code) {
        case static_cast<int32>(core::Metric::L2): return core::Metric::L2;
        case static_cast<int32>(core::Metric::InnerProduct): return core::Metric::InnerProduct;
        case static_cast<int32>(core::Metric::Cosine): return core::Metric::Cosine;
        default:
            throw pg::SqlError(ERRCODE_INVALID_OBJECT_DEFINITION,
                               "support function 1 of the operator class of index \"" +
                                   std::string(RelationGetRelationName(index)) + "\" returned unknown metric " +
                                   std::to_string(code));
    }
}

uint32 column_dimensions(Relation index, const IndexOptions& options) {
    int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    if (typmod < 1) throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "column does not have dimensions");
    uint32 dim = static_cast<uint32>(typmod);
    if (dim > static_cast<uint32>(pg::kVectorMaxDim))
        throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "column cannot have more than " + std::to_string(pg::kVectorMaxDim) +
                               " dimensions for rabitq index");
    if (options.rerank == RerankSource::Index && dim > max_dim_with_index_rerank())
        throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "column cannot have more than " + std::to_string(max_dim_with_index_rerank()) +
                               " dimensions for rabitq index with rerank = 'index'",
                           "The index keeps each vector on one page.", "Use rerank = 'heap'.");
    if (options.rotation == core::RotationKind::Haar && dim > core::kMaxHaarDim)
        throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "column cannot have more than " + std::to_string(core::kMaxHaarDim) +
                               " dimensions for rabitq index with rotation = 'haar'",
                           {}, "Use rotation = 'hadamard'.");
    return dim;
}

void throw_dimension_mismatch(int expected, int actual) {
    throw pg::SqlError(ERRCODE_DATA_EXCEPTION,
                       "different vector dimensions " + std::to_string(expected) + " and " + std::to_string(actual));
}

}  // namespace rulake::am
