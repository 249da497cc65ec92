package ddbjson

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

// The inputs and outputs of the operations, with the SDK's field names and
// types (service/dynamodb's GetItemInput and the rest), for the fields
// Razorbill uses. The member types (AttributeValue, TransactWriteItem,
// KeysAndAttributes, ConsumedCapacity, the enums) are the SDK's own, from
// service/dynamodb/types, which has no package initialization to speak of.

type GetItemInput struct {
	TableName                *string
	Key                      map[string]types.AttributeValue
	ConsistentRead           *bool
	ProjectionExpression     *string
	ExpressionAttributeNames map[string]string
	ReturnConsumedCapacity   types.ReturnConsumedCapacity
}

type GetItemOutput struct {
	Item             map[string]types.AttributeValue
	ConsumedCapacity *types.ConsumedCapacity
}

type PutItemInput struct {
	TableName                           *string
	Item                                map[string]types.AttributeValue
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]types.AttributeValue
	ReturnValues                        types.ReturnValue
	ReturnValuesOnConditionCheckFailure types.ReturnValuesOnConditionCheckFailure
	ReturnConsumedCapacity              types.ReturnConsumedCapacity
}

type PutItemOutput struct {
	Attributes       map[string]types.AttributeValue
	ConsumedCapacity *types.ConsumedCapacity
}

type UpdateItemInput struct {
	TableName                           *string
	Key                                 map[string]types.AttributeValue
	UpdateExpression                    *string
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]types.AttributeValue
	ReturnValues                        types.ReturnValue
	ReturnValuesOnConditionCheckFailure types.ReturnValuesOnConditionCheckFailure
	ReturnConsumedCapacity              types.ReturnConsumedCapacity
}

type UpdateItemOutput struct {
	Attributes       map[string]types.AttributeValue
	ConsumedCapacity *types.ConsumedCapacity
}

type DeleteItemInput struct {
	TableName                           *string
	Key                                 map[string]types.AttributeValue
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]types.AttributeValue
	ReturnValues                        types.ReturnValue
	ReturnValuesOnConditionCheckFailure types.ReturnValuesOnConditionCheckFailure
	ReturnConsumedCapacity              types.ReturnConsumedCapacity
}

type DeleteItemOutput struct {
	Attributes       map[string]types.AttributeValue
	ConsumedCapacity *types.ConsumedCapacity
}

type QueryInput struct {
	TableName                 *string
	IndexName                 *string
	KeyConditionExpression    *string
	FilterExpression          *string
	ProjectionExpression      *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]types.AttributeValue
	ExclusiveStartKey         map[string]types.AttributeValue
	Limit                     *int32
	ScanIndexForward          *bool
	ConsistentRead            *bool
	Select                    types.Select
	ReturnConsumedCapacity    types.ReturnConsumedCapacity
}

type QueryOutput struct {
	Items            []map[string]types.AttributeValue
	Count            int32
	ScannedCount     int32
	LastEvaluatedKey map[string]types.AttributeValue
	ConsumedCapacity *types.ConsumedCapacity
}

type TransactWriteItemsInput struct {
	TransactItems          []types.TransactWriteItem
	ClientRequestToken     *string
	ReturnConsumedCapacity types.ReturnConsumedCapacity
}

type TransactWriteItemsOutput struct {
	ConsumedCapacity []types.ConsumedCapacity
}

type BatchGetItemInput struct {
	RequestItems           map[string]types.KeysAndAttributes
	ReturnConsumedCapacity types.ReturnConsumedCapacity
}

type BatchGetItemOutput struct {
	Responses        map[string][]map[string]types.AttributeValue
	UnprocessedKeys  map[string]types.KeysAndAttributes
	ConsumedCapacity []types.ConsumedCapacity
}
